/*  zc_notifier.c - placeholder until written */
#include "zc_classes.h"
