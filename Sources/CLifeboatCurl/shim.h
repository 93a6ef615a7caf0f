#ifndef CLIFEBOAT_CURL_SHIM_H
#define CLIFEBOAT_CURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call; these typed, non-variadic wrappers pass exactly one argument of the documented type.

typedef size_t (*lifeboat_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode lifeboat_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode lifeboat_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode lifeboat_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode lifeboat_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode lifeboat_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode lifeboat_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, lifeboat_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lifeboat_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode lifeboat_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode lifeboat_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

// Integer macros spelled as constants so that Swift sees them with the right type.
static const long lifeboat_curl_http_version_2tls = CURL_HTTP_VERSION_2TLS;
static const long lifeboat_curlpipe_multiplex = CURLPIPE_MULTIPLEX;
static const long lifeboat_curl_global_default = CURL_GLOBAL_DEFAULT;
#endif
