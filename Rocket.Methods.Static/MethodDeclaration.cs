using RocketOwin;
using RocketOwin.Methods.Static;

// "fs" is the name Rocket (Python) gave this method; its appInfo keys document_root and display_index are kept.
[assembly: RocketMethod("static", typeof(StaticWorker), Aliases = ["fs"])]
