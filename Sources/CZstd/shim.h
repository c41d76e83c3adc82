// zstd from Debian's libzstd-dev: compresses the salient-position bitmaps of .pbllm files.
#include <zstd.h>
