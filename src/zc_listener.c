/*  zc_listener.c - placeholder until written */
#include "zc_classes.h"
