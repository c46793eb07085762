# ABI checks: exported symbols vs include/libkrun.h, soname, and a client
# built against a staged install through pkg-config (C and C++).
check-abi: $(LIB_FILE) $(B)/libkrun.pc
	scripts/check-abi.sh $(B) $(VERSION)

CHECKS += check-abi
