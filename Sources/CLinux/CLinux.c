// CLinux.c: SwiftPM needs one source file in a C target; the target is only a header shim.
#include "CLinux.h"
