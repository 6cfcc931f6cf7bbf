/* `make check-asan` runs this first: it leaks a response built by our
 * library on purpose, and LeakSanitizer must report it (exit 86, a report
 * naming the library's allocation).  It proves the check can fail: the
 * library is not instrumented, but its allocations (Rust's allocator is
 * malloc) are seen by the sanitizer runtime of the C program. */
#include <microhttpd.h>
#include <stdio.h>

static struct MHD_Response *volatile forgotten;

int
main (void)
{
  forgotten = MHD_create_response_from_buffer (5, "hello",
                                               MHD_RESPMEM_MUST_COPY);
  if (NULL == forgotten)
    return 99;
  MHD_add_response_header (forgotten, "X-Leaked", "on purpose");
  forgotten = NULL; /* the only pointer is gone: a definite leak */
  return 0;
}
