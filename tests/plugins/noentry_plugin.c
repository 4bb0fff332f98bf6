/* A library without xrt_plugin_get_api: the loader must refuse it. */
__attribute__((visibility("default"))) int xrt_not_the_entry_point(void) { return 42; }
