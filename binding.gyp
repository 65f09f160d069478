{
  # The recist3d native engine: libtorch (Debian's, or $LIBTORCH_DIR) + OpenCV core/imgproc.
  # Build settings that depend on the machine come from native/gyp-config.cjs.
  "targets": [
    {
      "target_name": "recist3d",
      "sources": ["native/addon.cc", "native/segnet_wrap.cc", "native/grabcut.cc", "native/nets.cc", "native/engine.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/gyp-config.cjs include)"
      ],
      "libraries": ["<!@(node native/gyp-config.cjs libs)"],
      "ldflags": ["<!@(node native/gyp-config.cjs ldflags)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node native/gyp-config.cjs defines)"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": ["-O2"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
