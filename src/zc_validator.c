/*  zc_validator.c - placeholder until written */
#include "zc_classes.h"
