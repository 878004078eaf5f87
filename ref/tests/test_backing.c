/* test_backing.c - placeholder while being written. */
#include "helpers.h"

int suite_backing(void)
{
    return add_suite("backing", NULL, 0);
}
