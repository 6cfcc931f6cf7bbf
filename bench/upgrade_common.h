/* Shared by upgrade_echo_ours.c and upgrade_echo_theirs.c: argument
 * parsing and the signal handling (the stop flag, its handler and the
 * PEM loader are mhd_common.h's). Not the upgrade API
 * itself: that is what differs between the two programs. */
#ifndef UPGRADE_COMMON_H
#define UPGRADE_COMMON_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mhd_common.h"

/* upgrade_echo_* PORT [--tls CERT KEY]; returns 0 or exits 2 */
static int
parse_args (int argc, char **argv, int *port, char **cert, char **key)
{
  if (argc != 2 && ! (argc == 5 && 0 == strcmp (argv[2], "--tls")))
  {
    fprintf (stderr, "usage: %s PORT [--tls CERT KEY]\n", argv[0]);
    exit (2);
  }
  *port = atoi (argv[1]);
  *cert = *key = NULL;
  if (5 == argc)
  {
    *cert = slurp (argv[3]);
    *key = slurp (argv[4]);
    if (NULL == *cert || NULL == *key)
    {
      fprintf (stderr, "cannot read %s / %s\n", argv[3], argv[4]);
      exit (2);
    }
  }
  signal (SIGPIPE, SIG_IGN);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  return 0;
}

static void
serve_until_signal (void)
{
  printf ("READY\n");
  fflush (stdout);
  alarm (3600);
  while (! stop)
    pause ();
}

#endif
