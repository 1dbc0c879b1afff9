#ifndef MASTHEAD_CVIPS_SHIM_H
#define MASTHEAD_CVIPS_SHIM_H
// libvips' operations take NULL-terminated variadic option lists, which Swift cannot call.
// Each wrapper below fixes the options one caller needs and says why it exists.
#include <string.h>
#include <vips/vips.h>

// vips_init is a macro over VIPS_INIT in some versions; give Swift one plain function.
// Starts libvips with the loaders it marks untrusted (ImageMagick, PDF, SVG, Matlab, FITS…) turned
// off: only the formats Masthead sniffs for ever parse bytes a stranger sent.
// Warnings of libvips and the libraries under it (about a stranger's odd or damaged file) would go
// straight to stderr with the time of day, outside the server's log handler: a line that could date
// a tip. Failures still come back to the caller as errors; warnings and lesser messages are dropped.
static GLogWriterOutput masthead_vips_log_writer(GLogLevelFlags level, const GLogField *fields, gsize count, gpointer data) {
    if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0) return G_LOG_WRITER_HANDLED;
    return g_log_writer_default(level, fields, count, data);
}

static inline int masthead_vips_init(const char *argv0) {
    g_log_set_writer_func(masthead_vips_log_writer, NULL, NULL);
    if (VIPS_INIT(argv0) != 0) return -1;
    vips_block_untrusted_set(TRUE);
    return 0;
}

// Starts libheif (behind AVIF) once, on one thread: its plugin loading is not safe to run from
// several threads at once, as concurrent first AVIF requests otherwise would.
static inline void masthead_vips_warm_heif(void) {
    if (vips_type_find("VipsOperation", "heifsave_buffer") == 0) return;
    VipsImage *pixel = NULL;
    if (vips_black(&pixel, 16, 16, "bands", 3, NULL) != 0) { vips_error_clear(); return; }
    VipsImage *cast = NULL;
    if (vips_cast_uchar(pixel, &cast, NULL) == 0) {
        void *buffer = NULL;
        size_t length = 0;
        if (vips_heifsave_buffer(cast, &buffer, &length, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 0, NULL) == 0) {
            VipsImage *back = vips_image_new_from_buffer(buffer, length, "", NULL);
            if (back != NULL) { (void) vips_image_get_width(back); g_object_unref(back); }
            g_free(buffer);
        }
        g_object_unref(cast);
    }
    g_object_unref(pixel);
    vips_error_clear();
}

// Encodes interleaved 8-bit RGB pixels as a JPEG (metadata stripped) into a g_malloc'd buffer.
static inline int masthead_vips_rgb_to_jpeg(const void *pixels, size_t size, int width, int height,
                                            int quality, void **out, size_t *out_length) {
    VipsImage *image = vips_image_new_from_memory_copy(pixels, size, width, height, 3, VIPS_FORMAT_UCHAR);
    if (image == NULL) return -1;
    image->Type = VIPS_INTERPRETATION_sRGB;
    int result = vips_jpegsave_buffer(image, out, out_length, "Q", quality, "strip", TRUE,
                                      "optimize_coding", TRUE, "interlace", TRUE, NULL);
    g_object_unref(image);
    return result;
}

// Server settings: no operation cache (sources change on disk; every variant is cached on disk by
// the caller) and a bounded thread count per operation.
static inline void masthead_vips_configure(int threads) {
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(threads);
}

// What an image file is, from its header only: loader name (e.g. "jpegload"), size, bands and
// page count (frames of an animation). No pixels are decoded.
static inline int masthead_vips_inspect(const char *path, const char **loader, int *width, int *height,
                                        int *bands, int *pages) {
    *loader = vips_foreign_find_load(path);
    if (*loader == NULL) return -1;
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    *bands = vips_image_get_bands(image);
    *pages = vips_image_get_n_pages(image);
    g_object_unref(image);
    return 0;
}

// Shrinks (never enlarges) the image at `path` to fit width × height, auto-rotated by its EXIF
// orientation. crop: VIPS_INTERESTING_NONE to fit inside the box, or how to choose what to keep
// when filling it. Refuses truncated or damaged files instead of padding them with grey.
// The result is sRGB (or grey), 8 bits per band, with or without alpha as the source had it.
static inline int masthead_vips_resize(const char *path, int width, int height, int crop, VipsImage **out) {
    VipsImage *thumb = NULL;
    if (vips_thumbnail(path, &thumb, width, "height", height, "size", VIPS_SIZE_DOWN, "crop", crop,
                       "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) return -1;
    VipsInterpretation space = vips_image_guess_interpretation(thumb);
    VipsImage *converted = thumb;
    if (space != VIPS_INTERPRETATION_sRGB && space != VIPS_INTERPRETATION_B_W) {
        if (vips_colourspace(thumb, &converted, VIPS_INTERPRETATION_sRGB, NULL) != 0) {
            g_object_unref(thumb);
            return -1;
        }
        g_object_unref(thumb);
    }
    if (vips_image_get_format(converted) != VIPS_FORMAT_UCHAR) {
        VipsImage *cast = NULL;
        if (vips_cast_uchar(converted, &cast, NULL) != 0) { g_object_unref(converted); return -1; }
        g_object_unref(converted);
        converted = cast;
    }
    *out = converted;
    return 0;
}

// Blurs an image slightly, for the tiny placeholder shown while the real picture loads.
static inline int masthead_vips_blur(VipsImage *in, double sigma, VipsImage **out) {
    return vips_gaussblur(in, out, sigma, NULL);
}

static inline int masthead_vips_width(VipsImage *image) { return vips_image_get_width(image); }
static inline int masthead_vips_height(VipsImage *image) { return vips_image_get_height(image); }
static inline void masthead_vips_unref(VipsImage *image) { g_object_unref(image); }

// A copy of `in` with every metadata field removed (EXIF and its GPS, XMP, IPTC, ICC profile,
// orientation). The savers' own `strip` option is not enough: libvips 8.14.1's WebP writer
// ignores it and copies EXIF, GPS included.
static inline int masthead_vips_strip(VipsImage *in, VipsImage **out) {
    if (vips_copy(in, out, NULL) != 0) return -1;
    gchar **fields = vips_image_get_fields(*out);
    for (int i = 0; fields[i] != NULL; i++) {
        const char *name = fields[i];
        if (g_str_has_prefix(name, "exif-") || g_str_has_prefix(name, "xmp-") || g_str_has_prefix(name, "iptc-") ||
            g_str_has_prefix(name, "icc-") || g_str_has_prefix(name, "orientation") || g_str_has_prefix(name, "png-comment") ||
            g_str_has_prefix(name, "gif-comment") || g_str_has_prefix(name, "heif-"))
            vips_image_remove(*out, name);
    }
    g_strfreev(fields);
    return 0;
}

// Output formats for masthead_vips_save.
enum { MASTHEAD_JPEG = 0, MASTHEAD_PNG = 1, MASTHEAD_WEBP = 2, MASTHEAD_AVIF = 3 };

// Encodes an image into a g_malloc'd buffer, with every piece of metadata (EXIF, GPS, XMP, IPTC)
// left out. AVIF uses effort 0: nearly the bytes of the default effort at a tenth of the time.
static inline int masthead_vips_save(VipsImage *original, int format, int quality, void **out, size_t *length) {
    VipsImage *in = NULL;
    if (masthead_vips_strip(original, &in) != 0) return -1;
    int result;
    switch (format) {
    case MASTHEAD_JPEG:
        result = vips_jpegsave_buffer(in, out, length, "Q", quality, "strip", TRUE, "optimize_coding", TRUE,
                                      "interlace", TRUE, NULL);
        break;
    case MASTHEAD_PNG:
        result = vips_pngsave_buffer(in, out, length, "strip", TRUE, "compression", 6, NULL);
        break;
    case MASTHEAD_WEBP:
        result = vips_webpsave_buffer(in, out, length, "Q", quality, "strip", TRUE, "effort", 4, NULL);
        break;
    case MASTHEAD_AVIF:
        result = vips_heifsave_buffer(in, out, length, "Q", quality, "strip", TRUE,
                                      "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 0, NULL);
        break;
    default:
        result = -1;
    }
    g_object_unref(in);
    return result;
}

// Whether this libvips can write a format (AVIF needs libheif with an AV1 encoder).
static inline int masthead_vips_can_save(const char *operation) {
    return vips_type_find("VipsOperation", operation) != 0;
}

// Whether a metadata field names something about where, when, how or by whom a picture was
// taken: GPS (EXIF IFD 3), camera make and model, times, people, software, XMP and IPTC blocks.
static inline void *masthead_vips_revealing_field(VipsImage *image, const char *name, GValue *value, void *found) {
    (void) image; (void) value;
    static const char *revealing[] = {
        "xmp-data", "iptc-data", "exif-ifd3-", "GPS", "Make", "Model", "DateTime", "Artist", "Copyright",
        "Software", "MakerNote", "UserComment", "ImageDescription", "BodySerialNumber", "LensModel", "png-comment",
        "gif-comment", NULL
    };
    for (int i = 0; revealing[i] != NULL; i++) {
        if (strstr(name, revealing[i]) != NULL) { *(int *) found = 1; return image; }
    }
    return NULL;
}

// Whether encoded image bytes still carry metadata that could identify a place, time, camera or
// person (used by tests and checks). libvips 8.14's AVIF writer always adds a small generated EXIF
// block (orientation, resolution, pixel size), which reveals nothing and is not counted.
static inline int masthead_vips_buffer_has_metadata(const void *data, size_t size) {
    VipsImage *image = vips_image_new_from_buffer(data, size, "", NULL);
    if (image == NULL) return -1;
    int found = 0;
    vips_image_map(image, (VipsImageMapFn) masthead_vips_revealing_field, &found);
    g_object_unref(image);
    return found;
}

// Size and orientation tag of an encoded image (orientation 1 when there is none).
static inline int masthead_vips_buffer_header(const void *data, size_t size, int *width, int *height, int *bands) {
    VipsImage *image = vips_image_new_from_buffer(data, size, "", NULL);
    if (image == NULL) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    *bands = vips_image_get_bands(image);
    g_object_unref(image);
    return 0;
}

// Decodes encoded image bytes (the first frame) and turns them upright by their orientation tag,
// failing on damaged data; `data` must stay alive until the image is unreferenced.
static inline int masthead_vips_load_buffer(const void *data, size_t size, VipsImage **out) {
    VipsImage *image = vips_image_new_from_buffer(data, size, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (image == NULL) return -1;
    int result = vips_autorot(image, out, NULL);
    g_object_unref(image);
    return result;
}

// Frees a buffer that libvips allocated.
static inline void masthead_vips_free(void *buffer) { g_free(buffer); }

// The last libvips error, cleared after reading.
static inline const char *masthead_vips_error(void) { return vips_error_buffer(); }
static inline void masthead_vips_error_clear(void) { vips_error_clear(); }
#endif
