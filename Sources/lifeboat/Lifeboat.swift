import LifeboatCLI

@main enum Entry {
    static func main() async { await LifeboatCommand.main() }
}
