/*  =========================================================================
    zc_classes.h - private header of libzchain: actors, roles and config

    The public pieces are declared in include/zchain.h; this header adds
    what only zchaind and the tests inside this tree use.
    =========================================================================
*/

#ifndef ZC_CLASSES_H_INCLUDED
#define ZC_CLASSES_H_INCLUDED

#include "zchain.h"

#endif
