/* The flat kernel image, 64 KiB-aligned in a writable section (see krunfw.c). */
	.section .data.krunfw_image, "aw", @progbits
	.balign 65536
	.globl krunfw_image
	.hidden krunfw_image
krunfw_image:
	.incbin KRUNFW_IMAGE_PATH
	.globl krunfw_image_end
	.hidden krunfw_image_end
krunfw_image_end:
	.section .note.GNU-stack, "", @progbits
