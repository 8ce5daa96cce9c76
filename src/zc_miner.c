/*  zc_miner.c - placeholder until written */
#include "zc_classes.h"
