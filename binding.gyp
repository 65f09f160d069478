{
  # The recist3d native engine: libtorch (Debian's, or $LIBTORCH_DIR) + OpenCV core/imgproc.
  # Build settings that depend on the machine come from native/gyp-config.cjs.
  # NODE_ADDON_API_CPP_EXCEPTIONS_ALL: node-addon-api turns any C++ exception that still escapes an entry
  # point into a JS error (every entry point already maps them to coded errors; see native/args.h).
  "targets": [
    {
      "target_name": "recist3d",
      "sources": ["native/addon.cc", "native/segnet_wrap.cc", "native/grabcut.cc", "native/nets.cc", "native/engine.cc", "native/limits.cc", "native/dist.cc", "native/dist_wrap.cc", "native/sr_nets.cc", "native/sr_engine.cc", "native/sr_wrap.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/gyp-config.cjs include)"
      ],
      "libraries": ["<!@(node native/gyp-config.cjs libs)"],
      "ldflags": ["<!@(node native/gyp-config.cjs ldflags)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "<!@(node native/gyp-config.cjs defines)"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": ["-O2"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
