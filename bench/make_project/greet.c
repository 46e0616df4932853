#include "util.h"
const char *greet(void) { return "built by make"; }
