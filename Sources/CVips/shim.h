#ifndef MASTHEAD_CVIPS_SHIM_H
#define MASTHEAD_CVIPS_SHIM_H
// libvips' operations take NULL-terminated variadic option lists, which Swift cannot call.
// Each wrapper below fixes the options one caller needs and says why it exists.
#include <vips/vips.h>

// vips_init is a macro over VIPS_INIT in some versions; give Swift one plain function.
static inline int masthead_vips_init(const char *argv0) {
    return VIPS_INIT(argv0);
}

// Opens only the header of an image file (no pixel decode): width and height for layout.
static inline int masthead_vips_header(const char *path, int *width, int *height) {
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    g_object_unref(image);
    return 0;
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

// Frees a buffer that libvips allocated.
static inline void masthead_vips_free(void *buffer) { g_free(buffer); }

// The last libvips error, cleared after reading.
static inline const char *masthead_vips_error(void) { return vips_error_buffer(); }
static inline void masthead_vips_error_clear(void) { vips_error_clear(); }
#endif
