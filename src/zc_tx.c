/*  zc_tx.c - placeholder until written */
#include "zc_classes.h"
