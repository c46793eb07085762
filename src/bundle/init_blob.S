/* The static guest init (/init.krun), built by mk/init.mk; see bundle.h. */
	.section .rodata.init_blob, "a", @progbits
	.balign 16
	.globl init_blob_start
	.hidden init_blob_start
init_blob_start:
	.incbin INIT_BLOB_PATH
	.globl init_blob_end
	.hidden init_blob_end
init_blob_end:
	.section .note.GNU-stack, "", @progbits
