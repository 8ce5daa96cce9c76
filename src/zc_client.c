/*  zc_client.c - placeholder until written */
#include "zc_classes.h"
