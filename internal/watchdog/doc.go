// Package watchdog drives a device of the Linux watchdog API
// (/dev/watchdogN, include/uapi/linux/watchdog.h): opening it, which starts
// it; setting its timeout; keepalives; and the two ways of letting go of it
// — armed, for the next program to take over, or stopped with the magic
// close.
//
// The package keeps no timer of its own: whoever calls [Device.Keepalive]
// vouches that the system is making progress. A goroutine that pinged on a
// ticker would keep a wedged system alive, which is the one thing a
// watchdog is there to prevent.
package watchdog
