/*  zc_block.c - placeholder until written */
#include "zc_classes.h"
