/*  zc_mempool.c - placeholder until written */
#include "zc_classes.h"
