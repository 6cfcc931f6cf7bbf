/* pptrace CASEFILE: runs the POST processor over each case (whole, every
 * 2-way split, some 3-way splits, byte by byte, iterator stopping) and prints
 * every iterator call and result.  run.sh compares the output of our library
 * with Debian's libmicrohttpd.  Case lines: "bufsize<TAB>content-type<TAB>body",
 * body with \\r \\n \\0 \\xNN escapes or REPEAT:n:prefix|unit|suffix. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
static char *cur_ct; static size_t cur_bs; static char *cur_body; static size_t cur_len; static int stop_at = -1; static int nev;
static FILE *out;
static enum MHD_Result it(void *cls, enum MHD_ValueKind kind, const char *key, const char *fn, const char *ct, const char *te, const char *data, uint64_t off, size_t size){
  (void)cls;
  fprintf(out, " ev k=%d key=%s fn=%s ct=%s te=%s off=%llu size=%zu data=[", kind, key?key:"(null)", fn?fn:"(null)", ct?ct:"(null)", te?te:"(null)", (unsigned long long)off, size);
  for (size_t i = 0; i < size; i++) { unsigned char ch = data[i]; if (ch >= 32 && ch < 127) fputc(ch, out); else fprintf(out, "\\x%02x", ch); }
  fprintf(out, "]\n");
  nev++;
  if (stop_at >= 0 && nev > stop_at) return MHD_NO;
  return MHD_YES;
}
static void run_chunks(struct MHD_Connection *c, const size_t *cuts, size_t ncuts, const char *label){
  struct MHD_PostProcessor *pp = MHD_create_post_processor(c, cur_bs, it, NULL);
  fprintf(out, "%s\n", label);
  if (!pp) { fprintf(out, " NULL\n"); return; }
  size_t prev = 0; nev = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : cur_len;
    int r = MHD_post_process(pp, cur_body + prev, end - prev);
    fprintf(out, " pp(%zu..%zu)=%d\n", prev, end, r);
    prev = end;
  }
  fprintf(out, " destroy=%d\n", MHD_destroy_post_processor(pp));
}
static enum MHD_Result h(void *cls, struct MHD_Connection *c, const char *url, const char *m, const char *v, const char *up, size_t *us, void **cc){
  (void)cls;(void)url;(void)m;(void)v;(void)up;
  if (*cc == NULL) { *cc = (void*)1; return MHD_YES; }
  if (*us) { *us = 0; return MHD_YES; }
  MHD_set_connection_value(c, MHD_HEADER_KIND, "Content-Type", cur_ct);
  char label[64];
  run_chunks(c, NULL, 0, "whole");
  size_t cuts[2];
  for (size_t s = 0; s <= cur_len; s++) { cuts[0] = s; snprintf(label, sizeof label, "split %zu", s); run_chunks(c, cuts, 1, label); }
  if (cur_len < 200)
  for (size_t s = 1; s < cur_len; s += 3) for (size_t t = s; t <= cur_len; t += 5) { cuts[0] = s; cuts[1] = t; snprintf(label, sizeof label, "split3 %zu %zu", s, t); run_chunks(c, cuts, 2, label); }
  { size_t *bc = malloc(sizeof(size_t) * (cur_len + 1)); for (size_t i = 0; i < cur_len; i++) bc[i] = i; run_chunks(c, bc, cur_len, "bytewise"); free(bc); }
  for (int k = 0; k < 4; k++) { stop_at = k; char l[32]; snprintf(l, sizeof l, "stop_at %d", k); run_chunks(c, NULL, 0, l); }
  stop_at = -1;
  struct MHD_Response *r = MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
  MHD_queue_response(c, 200, r); MHD_destroy_response(r);
  return MHD_YES;
}
static size_t unesc(char *s){ size_t w = 0; for (size_t r = 0; s[r]; r++) { if (s[r]=='\\' && s[r+1]) { r++; switch (s[r]) { case 'r': s[w++]='\r'; break; case 'n': s[w++]='\n'; break; case '0': s[w++]=0; break; case 'x': { unsigned v; sscanf(s+r+1, "%2x", &v); s[w++]=(char)v; r+=2; break; } default: s[w++]=s[r]; } } else s[w++]=s[r]; } s[w]=0; return w; }
static size_t sink(void *p, size_t a, size_t b, void *u){(void)p;(void)u;return a*b;}
int main(int argc, char **argv){
  out = stdout;
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, h, NULL, MHD_OPTION_END);
  int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
  FILE *f = fopen(argv[1], "r"); char line[100000];
  char url[64]; snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
  while (fgets(line, sizeof line, f)) {
    size_t L = strlen(line); if (L && line[L-1]=='\n') line[--L]=0; if (!L || line[0]=='#') continue;
    char *t1 = strchr(line, '\t'); char *t2 = t1 ? strchr(t1+1, '\t') : NULL; if (!t2) continue;
    *t1 = 0; *t2 = 0; cur_bs = strtoul(line, NULL, 10); cur_ct = t1+1; unesc(cur_ct);
    cur_body = t2+1;
    if (0 == strncmp(cur_body, "REPEAT:", 7)) { /* REPEAT:n:prefix|unit|suffix */
      char *p = cur_body+7; size_t n = strtoul(p, &p, 10); p++; char *u = strchr(p, '|'); *u++ = 0; char *sfx = strchr(u, '|'); *sfx++ = 0;
      size_t lp = unesc(p), lu = unesc(u), ls = unesc(sfx);
      char *b = malloc(lp + n*lu + ls + 1); memcpy(b, p, lp); for (size_t i = 0; i < n; i++) memcpy(b+lp+i*lu, u, lu); memcpy(b+lp+n*lu, sfx, ls);
      cur_body = b; cur_len = lp + n*lu + ls;
    } else cur_len = unesc(cur_body);
    fprintf(out, "=== bs=%zu ct=%s len=%zu\n", cur_bs, cur_ct, cur_len);
    fflush(out);
    CURL *e = curl_easy_init(); curl_easy_setopt(e, CURLOPT_URL, url); curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_perform(e); curl_easy_cleanup(e);
    fflush(out);
  }
  MHD_stop_daemon(d);
  return 0;
}
