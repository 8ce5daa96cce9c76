/*  zc_config.c - placeholder until written */
#include "zc_classes.h"
