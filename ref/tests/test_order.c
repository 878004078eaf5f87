/* test_order.c - placeholder while being written. */
#include "helpers.h"

int suite_order(void)
{
    return add_suite("order", NULL, 0);
}
