/*  zc_ledger.c - placeholder until written */
#include "zc_classes.h"
