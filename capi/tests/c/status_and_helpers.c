/* Status names, the last error message, version, format names, frame
 * metadata helpers and default options. */
#include "check.h"

static void every_status_has_its_name(void) {
    static const struct { int code; const char *name; } codes[] = {
        {SHMFRAME_OK, "SHMFRAME_OK"},
        {SHMFRAME_NO_FRAME, "SHMFRAME_NO_FRAME"},
        {SHMFRAME_CLOSED, "SHMFRAME_CLOSED"},
        {SHMFRAME_E_INVALID, "SHMFRAME_E_INVALID"},
        {SHMFRAME_E_NOT_FOUND, "SHMFRAME_E_NOT_FOUND"},
        {SHMFRAME_E_EXISTS, "SHMFRAME_E_EXISTS"},
        {SHMFRAME_E_BUFFER_TOO_SMALL, "SHMFRAME_E_BUFFER_TOO_SMALL"},
        {SHMFRAME_E_CORRUPT, "SHMFRAME_E_CORRUPT"},
        {SHMFRAME_E_IO, "SHMFRAME_E_IO"},
        {SHMFRAME_E_PERMISSION, "SHMFRAME_E_PERMISSION"},
        {SHMFRAME_E_TOO_LARGE, "SHMFRAME_E_TOO_LARGE"},
        {SHMFRAME_E_STARVED, "SHMFRAME_E_STARVED"},
        {SHMFRAME_E_UNSUPPORTED, "SHMFRAME_E_UNSUPPORTED"},
        {SHMFRAME_E_STATE, "SHMFRAME_E_STATE"},
        {SHMFRAME_E_INTERNAL, "SHMFRAME_E_INTERNAL"},
        {SHMFRAME_E_NO_HOLD_FREE, "SHMFRAME_E_NO_HOLD_FREE"},
    };
    /* Codes are ABI: new ones are appended, none renumbered. */
    CHECK(SHMFRAME_E_INTERNAL == -12 && SHMFRAME_E_NO_HOLD_FREE == -13);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(strcmp(shmframe_status_str(codes[i].code), codes[i].name) == 0);
        /* Outcomes are positive, errors negative. */
        CHECK((codes[i].code < 0) == (strncmp(codes[i].name, "SHMFRAME_E_", 11) == 0));
    }
    CHECK(strcmp(shmframe_status_str(42), "SHMFRAME_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(shmframe_status_str(-42), "SHMFRAME_UNKNOWN_STATUS") == 0);
}

static void the_last_error_is_kept_per_call_and_truncated_like_snprintf(void) {
    char message[256];
    CHECK(shmframe_last_error(message, sizeof message) == 0);
    CHECK(message[0] == '\0');
    shmframe_reader *r = NULL;
    CHECK_RC(shmframe_reader_open("no-such-stream", NULL, &r), SHMFRAME_E_NOT_FOUND);
    CHECK(r == NULL);
    size_t len = shmframe_last_error(NULL, 0);
    CHECK(len > 10);
    CHECK(shmframe_last_error(message, sizeof message) == len);
    CHECK(strlen(message) == len);
    CHECK(strstr(message, "no-such-stream") != NULL);
    char small[8];
    CHECK(shmframe_last_error(small, sizeof small) == len);
    CHECK(strlen(small) == 7);
    CHECK(strncmp(small, message, 7) == 0);
    /* A success leaves the message as it was. */
    CHECK(strcmp(shmframe_status_str(SHMFRAME_OK), "SHMFRAME_OK") == 0);
    CHECK(shmframe_last_error(NULL, 0) == len);
}

static void formats_and_metadata(void) {
    static const struct { shmframe_pixel_format format; const char *name; uint32_t stride; size_t len; } formats[] = {
        {SHMFRAME_FORMAT_RGBA8, "rgba8", 16, 32},  {SHMFRAME_FORMAT_BGRA8, "bgra8", 16, 32},
        {SHMFRAME_FORMAT_RGB8, "rgb8", 12, 24},    {SHMFRAME_FORMAT_BGR8, "bgr8", 12, 24},
        {SHMFRAME_FORMAT_GRAY8, "gray8", 4, 8},    {SHMFRAME_FORMAT_GRAY16, "gray16", 8, 16},
        {SHMFRAME_FORMAT_GRAYF32, "grayf32", 16, 32}, {SHMFRAME_FORMAT_NV12, "nv12", 4, 12},
        {SHMFRAME_FORMAT_I420, "i420", 4, 12},     {SHMFRAME_FORMAT_YUYV, "yuyv", 8, 16},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        CHECK(strcmp(shmframe_format_name(formats[i].format), formats[i].name) == 0);
        shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 2, formats[i].format);
        CHECK(meta.width == 4 && meta.height == 2 && meta.format == formats[i].format);
        CHECK(meta.stride == formats[i].stride);
        CHECK(meta.matrix == SHMFRAME_MATRIX_BT601 && meta.range == SHMFRAME_RANGE_LIMITED);
        size_t len = 0;
        CHECK_OK(shmframe_frame_meta_len(&meta, &len));
        CHECK(len == formats[i].len);
    }
    CHECK(shmframe_format_name(0) == NULL);
    CHECK(shmframe_format_name(11) == NULL);
    shmframe_frame_meta unknown = shmframe_frame_meta_packed(4, 2, 99);
    CHECK(unknown.stride == 0);
    size_t len = 0;
    CHECK_RC(shmframe_frame_meta_len(&unknown, &len), SHMFRAME_E_INVALID);
    shmframe_frame_meta narrow = shmframe_frame_meta_packed(4, 2, SHMFRAME_FORMAT_RGBA8);
    narrow.stride = 15; /* less than a row */
    CHECK_RC(shmframe_frame_meta_len(&narrow, &len), SHMFRAME_E_INVALID);
    shmframe_frame_meta bad_range = shmframe_frame_meta_packed(4, 2, SHMFRAME_FORMAT_NV12);
    bad_range.range = 7;
    CHECK_RC(shmframe_frame_meta_len(&bad_range, &len), SHMFRAME_E_INVALID);
    CHECK(strlen(shmframe_version()) >= 5);
}

static void default_options(void) {
    shmframe_writer_options w;
    memset(&w, 0xff, sizeof w);
    shmframe_writer_options_default(&w);
    CHECK(w.slot_count == 2 && w.slot_capacity == 1920u * 1080u * 4u && w.mode == 0600);
    shmframe_reader_options r;
    memset(&r, 0xff, sizeof r);
    shmframe_reader_options_default(&r);
    CHECK(r.trusted_uids == NULL && r.trusted_uid_count == 0);
    CHECK(r.liveness_interval_ns == 100000000u);
    CHECK(r.holds == 2 && w.holds == 4);
    /* NULL is ignored. */
    shmframe_writer_options_default(NULL);
    shmframe_reader_options_default(NULL);
}

int main(void) {
    every_status_has_its_name();
    the_last_error_is_kept_per_call_and_truncated_like_snprintf();
    formats_and_metadata();
    default_options();
    return 0;
}
