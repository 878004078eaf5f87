/* test_io.c - placeholder while being written. */
#include "helpers.h"

int suite_io(void)
{
    return add_suite("io", NULL, 0);
}
