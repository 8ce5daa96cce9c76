/*  zc_keys.c - placeholder until written */
#include "zc_classes.h"
