//go:build rescue

package bootstate

const rescueTag = true
