/*  zc_util.c - placeholder until written */
#include "zc_classes.h"
