module github.com/kepkit/kep

go 1.26.8

require (
	github.com/ddulesov/gogost v1.0.0
	github.com/miekg/pkcs11 v1.1.2
	github.com/spf13/cobra v1.10.2
	golang.org/x/crypto v0.58.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
