#ifndef MASTHEAD_CLIBXML2_SHIM_H
#define MASTHEAD_CLIBXML2_SHIM_H
// libxml2's streaming reader (xmlTextReader): reads a document node by node in bounded
// memory, for exports of any size.
//
// Debian builds libxml2 with ICU, whose headers clash with the copy of ICU inside Foundation.
// Nothing here uses libxml2's ICU converters (only xmlCharEncodingHandler, never touched from
// Swift, changes shape), so its headers are read without them.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#endif
