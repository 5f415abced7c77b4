# The fuzz targets: each fuzz/<name>_fuzz.c with the product sources it exercises, built with
# clang's libFuzzer, AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer,
# apart from the autotools build (which uses gcc). scripts/fuzz runs this; by hand:
#   make -f fuzz/fuzz.mk -j2 [TARGETS="gsm7 box_msg"]
# Objects and binaries go under var/fuzz/build/ (outside git).
TOP := $(patsubst %/fuzz/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
OUT ?= $(TOP)/var/fuzz/build
CC := clang
TARGETS ?= menu_load menu_walk at_form kannel_meta box_msg sms_cmd gsm7 catalog_import till segment_rule

# Every product source but the two main()s and the embedded SQL, in one archive: a target links
# only what its parser reaches (no sockets, database or event loop get called), and a file split
# or added in src/ needs no change here. Sources sit one folder a part (doc/design.md).
SRCS := $(filter-out %/spazad.c %/spazactl.c %/sql_embed.c,$(wildcard $(TOP)/src/*.c $(TOP)/src/*/*.c))
PRODUCT := $(notdir $(basename $(SRCS)))
SRCDIRS := $(sort $(TOP)/src/ $(dir $(SRCS)))
HDRS := $(wildcard $(TOP)/src/*.h $(TOP)/src/*/*.h $(TOP)/src/*/*.def)
vpath %.c $(SRCDIRS)
PKGS := talloc libosmocore libosmovty libosmogsm yaml-0.1 libpq libcrypto libmicrohttpd libcurl jansson libqrencode
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# -Werror only on the targets: the product's warnings are the gcc build's to refuse.
CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter $(SAN) -fsanitize=fuzzer-no-link \
	$(SRCDIRS:%=-I%) -DFUZZ_SRCDIR='"$(TOP)"' -DPACKAGE_VERSION='"fuzz"' -DSRCDIR='"$(TOP)"' \
	$(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lzint

all: $(TARGETS:%=$(OUT)/%)

$(OUT)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/obj/%_fuzz.o: $(TOP)/fuzz/%_fuzz.c $(wildcard $(TOP)/fuzz/*.h) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Werror -c $< -o $@

$(OUT)/libproduct.a: $(PRODUCT:%=$(OUT)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

$(OUT)/%: $(OUT)/obj/%_fuzz.o $(OUT)/libproduct.a
	$(CC) $(SAN) -fsanitize=fuzzer $^ $(LIBS) -o $@

.PHONY: all
.PRECIOUS: $(OUT)/obj/%_fuzz.o
