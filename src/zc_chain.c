/*  zc_chain.c - placeholder until written */
#include "zc_classes.h"
