/*  zc_writer.c - placeholder until written */
#include "zc_classes.h"
