/*  zc_report.c - placeholder until written */
#include "zc_classes.h"
