/*  zc_bridge.c - placeholder until written */
#include "zc_classes.h"
