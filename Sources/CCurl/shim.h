#ifndef RECON_CCURL_SHIM_H
#define RECON_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// These typed wrappers are the only way the Swift layer reaches them.
static inline CURLcode recon_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode recon_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode recon_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode recon_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode recon_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*recon_curl_data_cb)(char *, size_t, size_t, void *);
static inline CURLcode recon_curl_setopt_datacb(CURL *h, CURLoption o, recon_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode recon_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode recon_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

// CURLOPT_XFERINFOFUNCTION: progress, low-speed and cancellation checks.
typedef int (*recon_curl_xferinfo_cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode recon_curl_setopt_xferinfocb(CURL *h, CURLoption o, recon_curl_xferinfo_cb v) {
    return curl_easy_setopt(h, o, v);
}

// Bytes that may contain NUL (CURLOPT_COPYPOSTFIELDS after CURLOPT_POSTFIELDSIZE_LARGE).
static inline CURLcode recon_curl_setopt_bytes(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }

// CURL_GLOBAL_DEFAULT is a macro built from other macros; keep its value on the C side.
static inline CURLcode recon_curl_global_init_default(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }

// Flags for curl_url_get, kept here for the same reason.
static inline unsigned int recon_curlu_default_port(void) { return CURLU_DEFAULT_PORT; }
static inline unsigned int recon_curlu_non_support_scheme(void) { return CURLU_NON_SUPPORT_SCHEME; }
#endif
