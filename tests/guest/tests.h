/*
 * tests.h: the test guest's tests that live outside main.c, one file per
 * driver.  Each returns NULL on success, else the reason it failed; what it
 * saw goes to COM1.  (c) is the kernel command line.
 */
#ifndef KRUN_TESTS_GUEST_TESTS_H
#define KRUN_TESTS_GUEST_TESTS_H

#include <stdint.h>

struct boot_params;

/* The MP configuration table ("PCMP") the floating pointer in the EBDA
 * names, or NULL; main.c. */
const volatile uint8_t *mp_config_table(void);

#define GUEST_TEST(name)                                                       \
    const char *name(const struct boot_params *zp, const char *c)

GUEST_TEST(test_rng);       /* rng.c */
GUEST_TEST(test_con_names); /* console_tests.c */
GUEST_TEST(test_con_out);
GUEST_TEST(test_con_in);
GUEST_TEST(test_con_intr);
GUEST_TEST(test_fs); /* fs_tests.c */
GUEST_TEST(test_fs_init);
GUEST_TEST(test_fs_badlen); /* fs_hostile.c */
GUEST_TEST(test_fs_badchain);
GUEST_TEST(test_smp);  /* smp.c */
GUEST_TEST(test_exit); /* exit.c */
GUEST_TEST(test_bad_insn);

#endif /* KRUN_TESTS_GUEST_TESTS_H */
