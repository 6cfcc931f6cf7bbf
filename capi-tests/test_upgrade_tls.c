/*
 * capi-tests/test_upgrade_tls.c -- every case of test_upgrade.c over HTTPS
 * (OpenSSL clients trusting tls/ca.pem), in every mode.
 */
#define UPGRADE_DEFAULT_TRANSPORT "https"
#define UPGRADE_TEST_NAME "test_upgrade_tls"
#include "test_upgrade.c"
