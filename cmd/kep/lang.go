package main

import (
	"os"
	"strings"
)

// defaultLang returns "ru" when the locale (LC_ALL, LC_MESSAGES, LANG) is
// Russian, else "en".
func defaultLang() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			if strings.HasPrefix(strings.ToLower(s), "ru") {
				return "ru"
			}
			return "en"
		}
	}
	return "en"
}
