# The fuzz targets: each fuzz/<name>_fuzz.c with the product sources it exercises, built with
# clang's libFuzzer, AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer,
# apart from the autotools build (which uses gcc). scripts/fuzz runs this; by hand:
#   make -f fuzz/fuzz.mk -j2 [TARGETS="gsm7 box_msg"]
# Objects and binaries go under var/fuzz/build/ (outside git).
TOP := $(patsubst %/fuzz/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
OUT ?= $(TOP)/var/fuzz/build
CC := clang
TARGETS ?= menu_load menu_walk at_form kannel_meta box_msg sms_cmd gsm7 catalog_import

# The pure parsers and what they call: no sockets, no database, no event loop.
PRODUCT := gsm7 msisdn money catalog menu menu_load sms_cmd at_form kannel_meta box_msg catalog_import
PKGS := talloc libosmocore libosmovty yaml-0.1 libpq
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter $(SAN) -fsanitize=fuzzer-no-link \
	-I$(TOP)/src -DFUZZ_SRCDIR='"$(TOP)"' $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS))

all: $(TARGETS:%=$(OUT)/%)

$(OUT)/obj/%.o: $(TOP)/src/%.c $(wildcard $(TOP)/src/*.h $(TOP)/src/*.def)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/obj/%_fuzz.o: $(TOP)/fuzz/%_fuzz.c $(TOP)/fuzz/fuzz.h $(wildcard $(TOP)/src/*.h $(TOP)/src/*.def)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libproduct.a: $(PRODUCT:%=$(OUT)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

$(OUT)/%: $(OUT)/obj/%_fuzz.o $(OUT)/libproduct.a
	$(CC) $(SAN) -fsanitize=fuzzer $^ $(LIBS) -o $@

.PHONY: all
.SECONDARY:
