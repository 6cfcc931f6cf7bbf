/* Built by `make check-install` against the installed header and library
 * (found through pkg-config). Exit 0 on success. */
#include <stdio.h>
#include <string.h>
#include <microhttpd.h>

int
main (void)
{
  const char *v = MHD_get_version ();
  if (NULL == v || 0 != strcmp (v, "0.9.75"))
  {
    fprintf (stderr, "unexpected version %s\n", v ? v : "(null)");
    return 1;
  }
  if (MHD_VERSION != 0x00097500)
    return 1;
  MHD_set_panic_func (NULL, NULL);
  return 0;
}
