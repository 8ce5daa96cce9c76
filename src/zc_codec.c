/*  zc_codec.c - placeholder until written */
#include "zc_classes.h"
