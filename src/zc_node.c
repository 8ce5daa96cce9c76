/*  zc_node.c - placeholder until written */
#include "zc_classes.h"
