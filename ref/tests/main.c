/*
 * main.c - the libqed unit-test runner: registers every suite and runs
 * them with CUnit's basic runner (its automated/JUnit mode aborts on a
 * failure in CUnit 2.1-3).  Exit status 0 only when every test passed and
 * every suite was registered and initialised.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "helpers.h"

typedef int (*suite_fn)(void);

/* Coverage suites (test_cover_io.c, test_cover_api.c); the POSIX
 * layer's locks and file types (test_reliab.c). */
int suite_cover_io(void);
int suite_cover_api(void);
int suite_reliab(void);
int suite_untrusted(void);   /* test_untrusted.c: backing policies, chain bounds */

static const suite_fn all_suites[] = {
    suite_header, suite_tables, suite_write, suite_check,
    suite_backing, suite_io, suite_faults, suite_order, suite_trace,
    suite_cover_io, suite_cover_api, suite_reliab, suite_untrusted,
};

/* Print usage for --help. */
static void usage(void)
{
    puts("usage: unit-tests [--help]\n"
         "\n"
         "Run the libqed CUnit suites (header, tables, write, check, backing,\n"
         "io, faults, order, trace, cover_io, cover_api, reliability, untrusted)\n"
         "and print CUnit's summary.\n"
         "The rules table is $QED_RULES_TSV, else spec/rules.tsv under the\n"
         "current directory (make test-unit sets QED_RULES_TSV).\n"
         "Exit status: 0 all passed, 1 a test failed, 2 CUnit set-up failed.");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        usage();
        return 0;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++) {
        if (all_suites[i]() != CUE_SUCCESS) {
            fprintf(stderr, "unit-tests: cannot register suite: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    unsigned fails = CU_get_number_of_failures();
    unsigned bad_suites = CU_get_number_of_suites_failed();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    unsigned tests_run = CU_get_number_of_tests_run();
    CU_ErrorCode cu_err = CU_get_error();
    CU_cleanup_registry();
    printf("\n%u passed, %u failed (%u assertion failures, %u suites failed to initialise) in %.2f s\n",
           tests_run - tests_failed, tests_failed, fails, bad_suites,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return (fails != 0 || bad_suites != 0 || cu_err != CUE_SUCCESS) ? 1 : 0;
}
