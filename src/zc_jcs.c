/*  zc_jcs.c - placeholder until written */
#include "zc_classes.h"
