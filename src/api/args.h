/*
 * args.h: checking and copying the arguments of krun_* calls: UTF-8 strings,
 * NULL-terminated string arrays (at most VM_MAX_ARGS entries) and growable
 * config arrays.  Every function returns 0 or a negative errno.
 */
#ifndef KRUN_API_ARGS_H
#define KRUN_API_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if (s) is a NUL-terminated, well-formed UTF-8 string. */
bool args_utf8_ok(const char *s);

/* *out = a copy of (s).  -EINVAL if s is NULL or not UTF-8, -ENOMEM. */
int args_str(const char *s, char **out);

/* Like args_str, but a NULL (s) gives *out = NULL and 0. */
int args_str_opt(const char *s, char **out);

/*
 * *out = a deep copy of NULL-terminated array (v), itself NULL-terminated.
 * -EINVAL if v is NULL, has more than VM_MAX_ARGS entries or a non-UTF-8
 * entry; -ENOMEM.
 */
int args_strv(const char *const *v, char ***out);

/* Free an array made by args_strv (NULL is fine). */
void args_strv_free(char **v);

/*
 * Append one zeroed element of (size) bytes to the array whose pointer is at
 * (parr) and that has (*nr) elements; returns the new element, or NULL if out
 * of memory or the array already has VM_MAX_ARGS elements (the array is then
 * unchanged).  Use ARGS_PUSH.
 */
void *args_push(void *parr, size_t *nr, size_t size);
#define ARGS_PUSH(arr, nr)                                                     \
    ((__typeof__(arr))args_push(&(arr), &(nr), sizeof(*(arr))))

/* Parse decimal (s) (digits only) as a value <= (max).  -EINVAL otherwise. */
int args_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif /* KRUN_API_ARGS_H */
