#ifndef MASTHEAD_CCMARKGFM_SHIM_H
#define MASTHEAD_CCMARKGFM_SHIM_H
// cmark-gfm's public API plus the core GFM extensions (tables, strikethrough, autolinks,
// task lists, tag filter). Every call is plain C and callable from Swift as it is.
#include <cmark-gfm.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm-core-extensions.h>
#endif
