/* test_faults.c - placeholder while being written. */
#include "helpers.h"

int suite_faults(void)
{
    return add_suite("faults", NULL, 0);
}
