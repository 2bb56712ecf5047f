/* strarray.h -- growable arrays of owned C strings.
 *
 * STRARRAY_INITIALIZER gives an empty array; strarray_fini() frees the
 * strings and the array but not the strarray_t itself.
 */
#ifndef LIB_STRARRAY_H
#define LIB_STRARRAY_H

typedef struct {
    int count;
    int alloc;
    char **data;  /* always NULL-terminated when non-NULL */
} strarray_t;

#define STRARRAY_INITIALIZER { 0, 0, NULL }

strarray_t *strarray_new(void);
/* Append a copy of `s`. Returns its index. */
int strarray_append(strarray_t *sa, const char *s);
/* Append `s`, taking ownership of it. */
int strarray_appendm(strarray_t *sa, char *s);
/* Append a copy of `s` unless an equal string is present. */
int strarray_add(strarray_t *sa, const char *s);
/* The idx'th string, or NULL when out of range (negative counts from the end). */
const char *strarray_nth(const strarray_t *sa, int idx);
/* Index of `s` (case-insensitively if `nocase`), or -1. */
int strarray_find(const strarray_t *sa, const char *s, int nocase);
/* Remove and free the idx'th string. */
void strarray_remove(strarray_t *sa, int idx);
/* Split `s` at any character of `sep`, skipping empty fields. */
strarray_t *strarray_split(const char *s, const char *sep);
/* Join with `sep` into new memory. */
char *strarray_join(const strarray_t *sa, const char *sep);
void strarray_sort(strarray_t *sa);
void strarray_truncate(strarray_t *sa, int count);
void strarray_fini(strarray_t *sa);
/* Free the array and set *sap to NULL. */
void strarray_free(strarray_t **sap);

#endif
